"""The demo company (`flask demo load`, `make run`): loader.py tells its story through the
product's operations; data.py reads and checks its data, content/company.toml; the text of its
documents is in content/."""
