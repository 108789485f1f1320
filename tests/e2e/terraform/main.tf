# What a team deploys on strato with Terraform's AWS provider: a public bucket and its index
# page, a private bucket read through an origin access identity, an assets bucket read through an
# origin access control behind signed URLs (a public key and key group), a layer, a function using
# it with its log group (a retention and tags), its asynchronous, recursion and runtime settings,
# an alias kept warm by provisioned concurrency and a public function URL, and a distribution in
# front of the buckets with cache, origin request and response headers policies of its own, a
# CloudFront function and an origin group failing over from the private bucket to the public one.
# The test fills in the endpoint, keys and names.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "@PROVIDER_VERSION@" }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "@ACCESS_KEY@"
  secret_key                  = "@SECRET_KEY@"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    s3         = "@ENDPOINT@"
    lambda     = "@ENDPOINT@"
    cloudfront = "@ENDPOINT@"
    logs       = "@ENDPOINT@"
  }
}

resource "aws_s3_bucket" "site" {
  bucket = "@NAME@"
}

resource "aws_s3_object" "index" {
  bucket       = aws_s3_bucket.site.id
  key          = "index.html"
  content      = "<h1>deployed by terraform</h1>"
  content_type = "text/html"
}

resource "aws_s3_bucket_policy" "public" {
  bucket = aws_s3_bucket.site.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid = "PublicRead", Effect = "Allow", Principal = "*", Action = "s3:GetObject",
      Resource = "arn:aws:s3:::@NAME@/*"
    }]
  })
}

resource "aws_s3_object" "fallback" {
  bucket  = aws_s3_bucket.site.id
  key     = "private/fallback.txt"
  content = "from the public bucket"
}

resource "aws_s3_bucket" "private" {
  bucket = "@NAME@-private"
}

resource "aws_s3_object" "secret" {
  bucket  = aws_s3_bucket.private.id
  key     = "private/secret.txt"
  content = "from the private bucket"
}

resource "aws_cloudfront_origin_access_identity" "reader" {
  comment = "the edge reads @NAME@-private"
}

resource "aws_s3_bucket_policy" "private" {
  bucket = aws_s3_bucket.private.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid = "EdgeRead", Effect = "Allow", Action = "s3:GetObject", Resource = "${aws_s3_bucket.private.arn}/*"
      Principal = { AWS = aws_cloudfront_origin_access_identity.reader.iam_arn }
    }]
  })
}

resource "aws_s3_bucket" "assets" {
  bucket = "@NAME@-assets"
}

resource "aws_s3_object" "asset" {
  bucket  = aws_s3_bucket.assets.id
  key     = "signed/asset.txt"
  content = "signed for, through the access control"
}

resource "aws_cloudfront_origin_access_control" "assets" {
  name                              = "@NAME@"
  description                       = "the edge signs its reads of the assets"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_s3_bucket_policy" "assets" {
  bucket = aws_s3_bucket.assets.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid = "EdgeRead", Effect = "Allow", Action = "s3:GetObject", Resource = "${aws_s3_bucket.assets.arn}/*"
      Principal = { Service = "cloudfront.amazonaws.com" }
      Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.cdn.arn } }
    }]
  })
}

resource "aws_cloudfront_public_key" "signer" {
  name        = "@NAME@"
  comment     = "signs the assets' URLs"
  encoded_key = file("signer.pem")
}

resource "aws_cloudfront_key_group" "signers" {
  name  = "@NAME@"
  items = [aws_cloudfront_public_key.signer.id]
}

resource "aws_lambda_layer_version" "shared" {
  layer_name          = "@NAME@"
  filename            = "layer.zip"
  source_code_hash    = filebase64sha256("layer.zip")
  compatible_runtimes = ["@RUNTIME@"]
}

resource "aws_cloudwatch_log_group" "fn" {
  name              = "/strato-tests/@NAME@"
  retention_in_days = 14
  tags              = { team = "platform" }
}

resource "aws_lambda_function" "fn" {
  function_name    = "@NAME@"
  role             = "arn:aws:iam::000000000000:role/terraform"
  handler          = "handler.handler"
  runtime          = "@RUNTIME@"
  filename         = "function.zip"
  source_code_hash = filebase64sha256("function.zip")
  layers           = [aws_lambda_layer_version.shared.arn]
  publish          = true
  kms_key_arn      = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  tracing_config { mode = "Active" }
  dead_letter_config { target_arn = "arn:aws:sqs:us-east-1:000000000000:dead-letters" }
  environment {
    variables = { STAGE = "test" }
  }
  logging_config {
    log_format            = "JSON"
    application_log_level = "DEBUG"
    system_log_level      = "WARN"
    log_group             = aws_cloudwatch_log_group.fn.name
  }
}

resource "aws_lambda_function_event_invoke_config" "fn" {
  function_name                = aws_lambda_function.fn.function_name
  maximum_event_age_in_seconds = 600
  maximum_retry_attempts       = 1
}

resource "aws_lambda_function_recursion_config" "fn" {
  function_name  = aws_lambda_function.fn.function_name
  recursive_loop = "Allow"
}

resource "aws_lambda_runtime_management_config" "fn" {
  function_name     = aws_lambda_function.fn.function_name
  update_runtime_on = "FunctionUpdate"
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.fn.function_name
  function_version = aws_lambda_function.fn.version
}

resource "aws_lambda_provisioned_concurrency_config" "live" {
  function_name                     = aws_lambda_alias.live.function_name
  qualifier                         = aws_lambda_alias.live.name
  provisioned_concurrent_executions = 1
}

resource "aws_lambda_function_url" "url" {
  function_name      = aws_lambda_function.fn.function_name
  qualifier          = aws_lambda_alias.live.name
  authorization_type = "NONE"
}

resource "aws_lambda_permission" "url" {
  statement_id           = "public-url"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.fn.function_name
  qualifier              = aws_lambda_alias.live.name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_cloudfront_cache_policy" "pages" {
  name        = "@NAME@"
  default_ttl = 120
  max_ttl     = 600
  min_ttl     = 1
  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_gzip = true
    headers_config {
      header_behavior = "whitelist"
      headers { items = ["X-Variant"] }
    }
    cookies_config { cookie_behavior = "none" }
    query_strings_config { query_string_behavior = "none" }
  }
}

resource "aws_cloudfront_origin_request_policy" "pages" {
  name = "@NAME@"
  headers_config {
    header_behavior = "whitelist"
    headers { items = ["X-Tenant"] }
  }
  cookies_config { cookie_behavior = "none" }
  query_strings_config { query_string_behavior = "all" }
}

resource "aws_cloudfront_response_headers_policy" "site" {
  name    = "@NAME@"
  comment = "terraform"
  cors_config {
    access_control_allow_credentials = false
    access_control_allow_headers { items = ["X-Tenant"] }
    access_control_allow_methods { items = ["GET", "HEAD"] }
    access_control_allow_origins { items = ["https://app.example.test"] }
    access_control_max_age_sec = 600
    origin_override            = true
  }
  security_headers_config {
    content_type_options { override = true }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      override                   = false
    }
    content_security_policy {
      content_security_policy = "default-src 'self'"
      override                = true
    }
  }
  custom_headers_config {
    items {
      header   = "X-Deployed-By"
      value    = "terraform"
      override = true
    }
  }
  remove_headers_config {
    items { header = "X-Amz-Meta-Secret" }
  }
  server_timing_headers_config {
    enabled       = true
    sampling_rate = 50
  }
}

resource "aws_cloudfront_function" "pages" {
  name    = "@NAME@-pages"
  runtime = "cloudfront-js-2.0"
  comment = "directory paths to their index page"
  publish = true
  code    = <<-EOT
    function handler(event) {
      var request = event.request;
      if (request.uri.endsWith('/')) request.uri += 'index.html';
      return request;
    }
  EOT
}

resource "aws_cloudfront_distribution" "cdn" {
  enabled = true
  comment = "terraform"
  aliases = ["@NAME@.example.test"]
  origin {
    domain_name = "127.0.0.1"
    origin_id   = "strato"
    origin_path = "/@NAME@"
    custom_origin_config {
      http_port              = @PORT@
      https_port             = 443
      origin_protocol_policy = "http-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }
  origin {
    domain_name = aws_s3_bucket.private.bucket_regional_domain_name
    origin_id   = "private"
    s3_origin_config {
      origin_access_identity = aws_cloudfront_origin_access_identity.reader.cloudfront_access_identity_path
    }
  }
  origin {
    domain_name              = aws_s3_bucket.assets.bucket_regional_domain_name
    origin_id                = "assets"
    origin_access_control_id = aws_cloudfront_origin_access_control.assets.id
  }
  origin_group {
    origin_id = "failover"
    failover_criteria { status_codes = [403, 404, 500, 502, 503, 504] }
    member { origin_id = "private" }
    member { origin_id = "strato" }
  }
  default_cache_behavior {
    target_origin_id           = "strato"
    viewer_protocol_policy     = "allow-all"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    min_ttl                    = 0
    default_ttl                = 60
    max_ttl                    = 3600
    response_headers_policy_id = aws_cloudfront_response_headers_policy.site.id
    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.pages.arn
    }
    forwarded_values {
      query_string = false
      cookies { forward = "none" }
    }
  }
  ordered_cache_behavior {
    path_pattern           = "/pages/*"
    target_origin_id       = "strato"
    viewer_protocol_policy = "allow-all"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id          = aws_cloudfront_cache_policy.pages.id
    origin_request_policy_id = aws_cloudfront_origin_request_policy.pages.id
  }
  ordered_cache_behavior {
    path_pattern           = "/private/*"
    target_origin_id       = "failover"
    viewer_protocol_policy = "allow-all"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    forwarded_values {
      query_string = false
      cookies { forward = "none" }
    }
  }
  ordered_cache_behavior {
    path_pattern           = "/signed/*"
    target_origin_id       = "assets"
    viewer_protocol_policy = "allow-all"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6" # Managed-CachingOptimized
    trusted_key_groups     = [aws_cloudfront_key_group.signers.id]
  }
  restrictions {
    geo_restriction { restriction_type = "none" }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

output "function_url" { value = aws_lambda_function_url.url.function_url }
output "signer_key_id" { value = aws_cloudfront_public_key.signer.id }
