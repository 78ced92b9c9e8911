"""Media of rich messages: storage back ends, type sniffing and limits, thumbnails,
downloads for the webhook, signed links, serving, and agents' chunked uploads."""
