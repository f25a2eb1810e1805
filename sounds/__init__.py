"""Vietnamese announcements: number words, voices, clip cache (issue 4)."""
