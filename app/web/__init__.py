"""HTTP: the Litestar plugin, controllers, guards and templates."""
