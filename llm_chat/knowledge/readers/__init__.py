"""One reader per document format; each turns bytes into blocks (see ``parsing``)."""
