"""Knowledge bases: documents parsed, chunked, indexed and searched for chat."""
