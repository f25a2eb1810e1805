"""Touch kiosk page, ticket layout and printing (issue 3)."""
