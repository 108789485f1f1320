"""The CloudWatch Logs protocol (awsJson1_1): function logs read back as log groups, streams and events."""
