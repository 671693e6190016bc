print("gtl: under construction")
