"""The console's pages, one blueprint per section."""
