"""Cổng Dịch vụ công: the Litestar application (HTTP, database, services, simulation)."""
