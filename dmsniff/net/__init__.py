"""Network layers: link/IP decoding, TCP reassembly, HTTP over TCP."""
