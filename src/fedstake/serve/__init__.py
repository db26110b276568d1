"""`fedstake serve`: a minted model's predictions over HTTP, metered per API key, with the fees
settled into the model's RevenueSplitter in batches."""
