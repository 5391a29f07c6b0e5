"""Drives a running pinfold serve with boto3, as an unmodified Pinpoint script would.

Usage: boto3_import.py API_URL S3_URL   (credentials from AWS_SHARED_CREDENTIALS_FILE/AWS_PROFILE)
"""
import sys
import time

import boto3
from botocore.config import Config

api_url, s3_url = sys.argv[1], sys.argv[2]
session = boto3.Session(region_name="us-east-1")
pinpoint = session.client("pinpoint", endpoint_url=api_url, config=Config(retries={"max_attempts": 1}))
s3 = session.client("s3", endpoint_url=s3_url)

app = pinpoint.create_app(CreateApplicationRequest={"Name": "boto3", "tags": {"k": "v"}})["ApplicationResponse"]
assert len(app["Id"]) == 32 and app["tags"] == {"k": "v"}, app

s3.create_bucket(Bucket="boto")
s3.put_object(Bucket="boto", Key="in/endpoints.csv",
              Body=b"ChannelType,Address,User.UserId\nEMAIL,a@example.com,u1\nSMS,+12065550100,u2\nFAX,x,u3\n")

job = pinpoint.create_import_job(ApplicationId=app["Id"], ImportJobRequest={
    "Format": "CSV", "S3Url": "s3://boto/in/", "RoleArn": "arn:aws:iam::000000000000:role/import",
    "RegisterEndpoints": True, "DefineSegment": True, "SegmentName": "from-boto3"})["ImportJobResponse"]
assert job["JobStatus"] == "CREATED" and job["Type"] == "IMPORT", job

for _ in range(600):
    job = pinpoint.get_import_job(ApplicationId=app["Id"], JobId=job["Id"])["ImportJobResponse"]
    if job["JobStatus"] in ("COMPLETED", "FAILED"):
        break
    time.sleep(0.05)
assert job["JobStatus"] == "COMPLETED", job
assert (job["TotalProcessed"], job["TotalFailures"], job["TotalPieces"], job["CompletedPieces"]) == (3, 1, 1, 1), job
assert job["Failures"][0].startswith("s3://boto/in/endpoints.csv:4: "), job["Failures"]

seg = pinpoint.get_segment(ApplicationId=app["Id"], SegmentId=job["Definition"]["SegmentId"])["SegmentResponse"]
assert seg["SegmentType"] == "IMPORT" and seg["ImportDefinition"]["Size"] == 2, seg
assert seg["ImportDefinition"]["ChannelCounts"] == {"EMAIL": 1, "SMS": 1}, seg

jobs = pinpoint.get_import_jobs(ApplicationId=app["Id"], PageSize="10")["ImportJobsResponse"]
assert [j["Id"] for j in jobs["Item"]] == [job["Id"]], jobs

try:
    pinpoint.get_import_job(ApplicationId=app["Id"], JobId="missing")
    raise SystemExit("expected NotFoundException")
except pinpoint.exceptions.NotFoundException as e:
    assert "missing" in e.response["Error"]["Message"] and e.response["RequestID"], e.response

try:
    pinpoint.create_import_job(ApplicationId=app["Id"], ImportJobRequest={
        "Format": "XML", "S3Url": "s3://boto/in/", "RoleArn": "arn:aws:iam::000000000000:role/import"})
    raise SystemExit("expected BadRequestException")
except pinpoint.exceptions.BadRequestException as e:
    assert 'Format must be CSV or JSON, got "XML"' == e.response["Message"], e.response

print("boto3 ok", app["Id"])
