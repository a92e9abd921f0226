from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from ._workflow import logger, workflow


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    detail = event.detail
    logger.append_keys(executionArn=detail["executionArn"], status=detail["status"])
    return workflow().reconcile(
        detail["executionArn"], detail["status"], detail.get("error"), detail.get("cause")
    )
