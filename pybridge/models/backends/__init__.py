"""Model loaders, one module per backend; the manager imports them by name, lazily."""
