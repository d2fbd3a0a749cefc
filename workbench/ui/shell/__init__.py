"""The window's frame: main window, docks, files, settings, style, icons, pictures."""
