"""learners: graph and sequence models over tensors; never imports the database driver."""
