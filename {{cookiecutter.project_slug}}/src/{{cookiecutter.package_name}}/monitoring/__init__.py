"""After deployment: the prediction log the service writes, and the monitor that reads it."""
