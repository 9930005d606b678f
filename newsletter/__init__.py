"""Weekly monitoring newsletter builder: from incident intake to the subscriber's inbox."""

__version__ = "0.1.0"
