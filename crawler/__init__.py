"""The Scrapy project: spiders discover and fetch, one pipeline extracts and stores."""
