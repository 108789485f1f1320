"""DistributionConfig XML: what is read is what is written back (with CloudFront's defaults for
what was left out), quantities are checked, malformed values are MalformedInput, and
unmodelled fields are kept."""

from __future__ import annotations

import dataclasses

import pytest

from strato.api.cloudfront.config_xml import config_node, parse_config
from strato.api.cloudfront.errors import NAMESPACE, CloudFrontError
from strato.api.cloudfront.shapes import parse_batch
from strato.api.cloudfront.wire import element_of
from strato.xmltree import parse, serialize

CONFIG = f"""<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="{NAMESPACE}">
  <CallerReference>ref-1</CallerReference>
  <Aliases><Quantity>1</Quantity><Items><CNAME>www.example.com</CNAME></Items></Aliases>
  <Origins><Quantity>1</Quantity><Items><Origin>
    <Id>bucket</Id><DomainName>photos.s3.localhost</DomainName>
    <S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig>
    <OriginShield><Enabled>false</Enabled></OriginShield>
  </Origin></Items></Origins>
  <DefaultCacheBehavior>
    <TargetOriginId>bucket</TargetOriginId>
    <ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
    <ForwardedValues><QueryString>false</QueryString><Cookies><Forward>none</Forward></Cookies></ForwardedValues>
    <MinTTL>0</MinTTL>
    <FunctionAssociations><Quantity>0</Quantity></FunctionAssociations>
  </DefaultCacheBehavior>
  <Comment> spaces kept </Comment>
  <Enabled>true</Enabled>
  <Restrictions><GeoRestriction><RestrictionType>none</RestrictionType><Quantity>0</Quantity></GeoRestriction>
  </Restrictions>
</DistributionConfig>""".encode()


def roundtrip(data: bytes) -> bytes:
    return serialize(config_node(parse_config(parse(data))), NAMESPACE)


def test_a_config_reads_back_as_written() -> None:
    once = roundtrip(CONFIG)
    assert roundtrip(once) == once
    parsed = parse_config(parse(CONFIG))
    assert parsed.comment == " spaces kept "
    assert parsed.aliases == ("www.example.com",)
    assert parsed.behaviors == ()
    assert parsed.default_behavior.max_ttl is None


def test_unmodelled_fields_are_kept_where_they_were_sent() -> None:
    text = roundtrip(CONFIG).decode()
    assert "<OriginShield><Enabled>false</Enabled></OriginShield></Origin>" in text
    assert "<MinTTL>0</MinTTL><FunctionAssociations><Quantity>0</Quantity></FunctionAssociations>" in text
    assert "<RestrictionType>none</RestrictionType>" in text


ERRORS = (b"<CustomErrorResponses><Quantity>2</Quantity><Items>"
          b"<CustomErrorResponse><ErrorCode>404</ErrorCode><ResponsePagePath>/404.html</ResponsePagePath>"
          b"<ResponseCode>200</ResponseCode><ErrorCachingMinTTL>30</ErrorCachingMinTTL></CustomErrorResponse>"
          b"<CustomErrorResponse><ErrorCode>503</ErrorCode><ResponsePagePath></ResponsePagePath>"
          b"<ResponseCode></ResponseCode></CustomErrorResponse>"
          b"</Items></CustomErrorResponses>")


def test_custom_error_responses_are_read_and_written_back_field_by_field() -> None:
    data = CONFIG.replace(b"<Comment>", ERRORS + b"<Comment>")
    parsed = parse_config(parse(data))
    assert parsed.custom_error_responses is not None
    [page, timing] = parsed.custom_error_responses
    assert (page.error_code, page.response_page_path, page.response_code, page.error_caching_min_ttl) == (
        404, "/404.html", "200", 30)
    assert (timing.error_code, timing.response_page_path, timing.response_code, timing.error_caching_min_ttl) == (
        503, "", "", None)
    assert parsed.extras == parse_config(parse(CONFIG)).extras  # modelled, not kept verbatim
    assert ERRORS.decode() in roundtrip(data).decode()


def test_members_left_out_come_back_with_cloudfronts_defaults() -> None:
    assert parse_config(parse(CONFIG)).custom_error_responses is None  # not sent: nothing to model
    text = roundtrip(CONFIG).decode()
    for default in (
        "<DefaultRootObject></DefaultRootObject>",
        "<CustomErrorResponses><Quantity>0</Quantity></CustomErrorResponses>",
        "<PriceClass>PriceClass_All</PriceClass>",
        "<HttpVersion>http2</HttpVersion>",
        "<OriginGroups><Quantity>0</Quantity></OriginGroups>",
        "<Logging><Enabled>false</Enabled><IncludeCookies>false</IncludeCookies><Bucket></Bucket><Prefix></Prefix>"
        "</Logging>",
        "<ViewerCertificate><CloudFrontDefaultCertificate>true</CloudFrontDefaultCertificate><SSLSupportMethod>vip"
        "</SSLSupportMethod><MinimumProtocolVersion>TLSv1</MinimumProtocolVersion><CertificateSource>cloudfront"
        "</CertificateSource></ViewerCertificate>",
        "<WebACLId></WebACLId>",
        "<TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners>",
        "<TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>",
        "<AllowedMethods><Quantity>2</Quantity><Items><Method>HEAD</Method><Method>GET</Method></Items><CachedMethods>"
        "<Quantity>2</Quantity><Items><Method>HEAD</Method><Method>GET</Method></Items></CachedMethods>"
        "</AllowedMethods>",
        "<SmoothStreaming>false</SmoothStreaming><Compress>false</Compress>"
        "<FieldLevelEncryptionId></FieldLevelEncryptionId>",
        "<LambdaFunctionAssociations><Quantity>0</Quantity></LambdaFunctionAssociations>",
    ):
        assert default in text
    assert text.count("<Restrictions>") == 1  # sent: kept as it was, no default beside it
    assert text.count("<FunctionAssociations>") == 1


GROUPS = (b"<OriginGroups><Quantity>1</Quantity><Items><OriginGroup><Id>both</Id>"
          b"<FailoverCriteria><StatusCodes><Quantity>2</Quantity><Items><StatusCode>503</StatusCode>"
          b"<StatusCode>404</StatusCode></Items></StatusCodes></FailoverCriteria>"
          b"<Members><Quantity>2</Quantity><Items><OriginGroupMember><OriginId>bucket</OriginId></OriginGroupMember>"
          b"<OriginGroupMember><OriginId>web</OriginId></OriginGroupMember></Items></Members>"
          b"<SelectionCriteria>default</SelectionCriteria></OriginGroup></Items></OriginGroups>")


def test_origin_groups_are_read_and_written_back() -> None:
    sent = CONFIG.replace(b"<Comment>", GROUPS + b"<Comment>")
    (group,) = parse_config(parse(sent)).origin_groups or ()
    assert (group.id, group.members, group.failover_statuses, group.selection_criteria) == (
        "both", ("bucket", "web"), (503, 404), "default")
    text = roundtrip(sent).decode()
    assert GROUPS.decode() in text
    assert text.count("<OriginGroups>") == 1


def test_a_row_stored_with_origin_groups_unmodelled_answers_them_once_as_stored() -> None:
    """Rows stored before origin groups were modelled keep them among the extras."""
    parsed = parse_config(parse(CONFIG.replace(b"<Comment>", GROUPS + b"<Comment>")))
    legacy = dataclasses.replace(parsed, origin_groups=None,
                                 extras=(*parsed.extras, element_of(parse(GROUPS))))
    text = serialize(config_node(legacy), NAMESPACE).decode()
    assert text.count("<OriginGroups>") == 1
    assert GROUPS.decode() in text


def code_of(data: bytes) -> str:
    with pytest.raises(CloudFrontError) as info:
        parse_config(parse(data))
    return info.value.code


def test_a_quantity_must_count_the_items() -> None:
    assert code_of(CONFIG.replace(b"<Aliases><Quantity>1", b"<Aliases><Quantity>2")) == "InconsistentQuantities"


@pytest.mark.parametrize(("old", "new"), [
    (b"<Enabled>true</Enabled>", b"<Enabled>yes</Enabled>"),
    (b"<MinTTL>0</MinTTL>", b"<MinTTL>zero</MinTTL>"),
    (b"<MinTTL>0</MinTTL>", "<MinTTL>\u00b2</MinTTL>".encode()),  # a digit to str.isdigit, not to int()
    (b"<CallerReference>ref-1</CallerReference>", b""),
    (b"<TargetOriginId>bucket</TargetOriginId>", b""),
    (b"<Comment>", ERRORS.replace(b"<ErrorCode>404</ErrorCode>", b"") + b"<Comment>"),
    (b"<Comment>", ERRORS.replace(b"<ErrorCachingMinTTL>30", b"<ErrorCachingMinTTL>soon") + b"<Comment>"),
])
def test_missing_and_mistyped_fields_are_malformed_input(old: bytes, new: bytes) -> None:
    assert code_of(CONFIG.replace(old, new)) == "MalformedInput"


def test_an_invalidation_batch_is_its_paths_and_reference() -> None:
    batch = parse(b"<InvalidationBatch><Paths><Quantity>2</Quantity><Items><Path>/a</Path><Path>/b/*</Path>"
                  b"</Items></Paths><CallerReference>r</CallerReference></InvalidationBatch>")
    assert parse_batch(batch) == ("r", ("/a", "/b/*"))


def test_errors_take_cloudfronts_form() -> None:
    body = CloudFrontError("NoSuchDistribution", "The specified distribution does not exist.", 404).body("rid")
    root = parse(body)
    error = root.find("Error")
    assert root.tag == "ErrorResponse"
    assert error is not None
    assert (error.text_of("Type"), error.text_of("Code")) == ("Sender", "NoSuchDistribution")
    assert root.text_of("RequestId") == "rid"


FUNCTIONS = (b"<FunctionAssociations><Quantity>1</Quantity><Items><FunctionAssociation>"
             b"<FunctionARN>arn:aws:cloudfront::000000000000:function/spa</FunctionARN>"
             b"<EventType>viewer-request</EventType></FunctionAssociation></Items></FunctionAssociations>")
NO_FUNCTIONS = b"<FunctionAssociations><Quantity>0</Quantity></FunctionAssociations>"


def test_function_associations_are_read_and_written_back() -> None:
    sent = CONFIG.replace(NO_FUNCTIONS, FUNCTIONS)
    (association,) = parse_config(parse(sent)).default_behavior.function_associations or ()
    assert (association.event_type, association.function_arn) == (
        "viewer-request", "arn:aws:cloudfront::000000000000:function/spa")
    text = roundtrip(sent).decode()
    assert FUNCTIONS.decode() in text
    assert text.count("<FunctionAssociations>") == 1


def test_a_row_stored_with_function_associations_unmodelled_answers_them_once() -> None:
    """Rows stored before FunctionAssociations were modelled keep them among the behaviour's extras."""
    parsed = parse_config(parse(CONFIG.replace(NO_FUNCTIONS, FUNCTIONS)))
    behavior = parsed.default_behavior
    legacy = dataclasses.replace(parsed, default_behavior=dataclasses.replace(
        behavior, function_associations=None, extras=(*behavior.extras, element_of(parse(FUNCTIONS)))))
    text = serialize(config_node(legacy), NAMESPACE).decode()
    assert text.count("<FunctionAssociations>") == 1
    assert FUNCTIONS.decode() in text
