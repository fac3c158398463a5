"""The application's logic, free of Reflex and HTTP: both doors call these functions."""
