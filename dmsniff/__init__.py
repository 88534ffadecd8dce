"""dmsniff: protocol analyser for TR-069/CWMP and OMA DM traffic."""

__version__ = "0.1.0"
