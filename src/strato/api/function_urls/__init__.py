"""Lambda function URLs: HTTP requests to `<url-id>.lambda-url.<region>.<domain>` invoke a function."""
