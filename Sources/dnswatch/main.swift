print("dnswatch")
