"""A small shop: a web front takes orders, a Dramatiq worker charges them (it knows no chaos)."""
