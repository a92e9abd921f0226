from aws_lambda_powertools.utilities.typing import LambdaContext

from ..api import logger, resolve


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return resolve(event, context)
