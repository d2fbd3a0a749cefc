"""The autoencoder lab's views."""
