"""The site's own pages: accessibility statement, privacy notice, cookies, contact."""
