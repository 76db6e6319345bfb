"""The seed's producer example, unchanged: one API call of tenant_123 put on the usage stream.

Runs with the AWS environment (region, credentials; AWS_ENDPOINT_URL for an emulator). The
timestamp has no offset, so Tally reads it as UTC: run producers like this one in UTC, or send
timestamps with an offset.
"""

import json
from datetime import datetime

import boto3

kinesis = boto3.client('kinesis')
kinesis.put_record(StreamName='usage-metering', Data=json.dumps({'tenant_id': 'tenant_123', 'metric': 'api_calls', 'value': 1, 'timestamp': datetime.now().isoformat()}), PartitionKey='tenant_123')
