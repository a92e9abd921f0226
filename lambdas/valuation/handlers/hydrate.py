from aws_lambda_powertools.utilities.typing import LambdaContext

from ._workflow import logger, workflow


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(requestId=event["requestId"])
    return workflow().hydrate(
        event["requestId"], event["executionArn"], int(event.get("resumeFromGroup") or 0)
    )
