from aws_lambda_powertools.utilities.typing import LambdaContext

from ._workflow import logger, workflow


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(requestId=event["requestId"])
    return workflow().run_task(
        event["requestId"], int(event["groupIndex"]), event["taskId"],
        int(event.get("retryCount") or 0),
    )
