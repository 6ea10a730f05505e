"""Cyber-threat desk: incident reports, indicators, advisories, STIX 2.1 / TAXII 2.1 exchange."""
