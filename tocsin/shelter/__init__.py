"""Shelter (#portesouvertes): hosts offer a place, seekers ask, an address is revealed only on
acceptance. Everyone but the host and the accepted seeker sees a coarse H3 area, never a point."""
