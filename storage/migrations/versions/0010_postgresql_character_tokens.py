"""PostgreSQL: every CJK character of an article is a search token of its own

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

A one-character search ("汇") asked PostgreSQL's GIN index for a prefix, every token starting
with the character; GIN merges the posting lists of all of them (one per bigram) for each
period a search asks, 45 ms a period at a million articles. With each character a token of
its own (storage.cjk_tokens.character_tokens, storage.search.postgresql_tokens) the term is one
token. The characters are taken from the bigrams already stored, by the database; the GIN index
is rebuilt after, which is faster than updating it row by row.

SQLite is unchanged: FTS5's one-character prefix index already serves such a term from one list.

Down: the characters stay. Revision 0009 reads the token 汇 as "the text contains 汇", which
is true, so its searches return the same articles with them or without.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# storage.cjk_tokens' CJK characters as of this revision, in PostgreSQL's regular-expression escapes
_CJK_CLASS = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f]"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_articles_search_tokens")
    op.execute(
        "UPDATE articles SET search_tokens = search_tokens || array_to_tsvector(ARRAY("
        "SELECT DISTINCT substr(t.lexeme, i, 1) FROM unnest(search_tokens) AS t(lexeme, positions, weights), "
        "generate_series(1, 2) AS i "  # a one-character run is a token already: only bigrams give new ones
        f"WHERE char_length(t.lexeme) = 2 AND substr(t.lexeme, i, 1) ~ '{_CJK_CLASS}')) "
        "WHERE search_tokens IS NOT NULL"
    )
    op.execute("CREATE INDEX ix_articles_search_tokens ON articles USING gin (search_tokens)")


def downgrade() -> None:
    pass  # see the docstring: the character tokens are true of the text under revision 0009 too
