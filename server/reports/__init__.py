"""Township, district and city reports (XLSX and PDF) of a round or a campaign, made in the background."""
