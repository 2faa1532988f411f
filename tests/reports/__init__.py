"""Reports, the SKM survey and data retention."""
