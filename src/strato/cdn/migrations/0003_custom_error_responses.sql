-- CustomErrorResponses, kept verbatim among a configuration's unmodelled fields (its extras,
-- as Element trees) before strato modelled them, become its custom_error_responses records.
UPDATE distributions SET config = json_set(config,
    '$.custom_error_responses', json((
        SELECT json_group_array(json_object(
            'error_code', (SELECT CAST(json_extract(f.value, '$.text') AS INTEGER)
                           FROM json_each(item.value, '$.children') AS f
                           WHERE json_extract(f.value, '$.name') = 'ErrorCode'),
            'response_page_path', (SELECT json_extract(f.value, '$.text') FROM json_each(item.value, '$.children') AS f
                                   WHERE json_extract(f.value, '$.name') = 'ResponsePagePath'),
            'response_code', (SELECT json_extract(f.value, '$.text') FROM json_each(item.value, '$.children') AS f
                              WHERE json_extract(f.value, '$.name') = 'ResponseCode'),
            'error_caching_min_ttl', (SELECT CAST(NULLIF(json_extract(f.value, '$.text'), '') AS INTEGER)
                                      FROM json_each(item.value, '$.children') AS f
                                      WHERE json_extract(f.value, '$.name') = 'ErrorCachingMinTTL')))
        FROM json_each(config, '$.extras') AS extra
        JOIN json_each(extra.value, '$.children') AS items ON json_extract(items.value, '$.name') = 'Items'
        JOIN json_each(items.value, '$.children') AS item ON json_extract(item.value, '$.name') = 'CustomErrorResponse'
        WHERE json_extract(extra.value, '$.name') = 'CustomErrorResponses')),
    '$.extras', json((
        SELECT json_group_array(json(extra.value)) FROM json_each(config, '$.extras') AS extra
        WHERE json_extract(extra.value, '$.name') != 'CustomErrorResponses')))
WHERE EXISTS (SELECT 1 FROM json_each(config, '$.extras') AS extra
              WHERE json_extract(extra.value, '$.name') = 'CustomErrorResponses')
