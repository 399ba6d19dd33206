"""Key-store adapters: seal secrets so no CA key or access-key secret is stored in plaintext."""
