"""Learn from clicks: the feedback store, traffic allocation (bandit) and plans."""
