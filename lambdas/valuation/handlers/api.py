from aws_lambda_powertools.utilities.typing import LambdaContext

from ..api import app, logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
