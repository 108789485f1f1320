"""strato has one AWS-style account: every ARN it writes names it, and its root owns everything."""

ACCOUNT_ID = "000000000000"
