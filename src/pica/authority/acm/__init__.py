"""ACM's private-certificate half: certificates pica's own CAs issue for ACM (key pair generated
and sealed by pica), imported ones, their export with the key, tags and managed renewal."""
