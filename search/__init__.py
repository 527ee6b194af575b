"""Everything Whoosh: schema, documents, queries, the single writer, rebuilds."""
