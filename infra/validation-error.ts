import { ValidationError } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The codes of the ValidationErrors Snow White's constructs throw (CDK hands the code to its CLI). */
export type SnowWhiteErrorCode =
  | 'InvalidNotifyChannelId'
  | 'InvalidFleetRegions'
  | 'InvalidDocumentNamePrefix'
  | 'MissingSidekiqctlScript'
  | 'InvalidCliRoles';

/** aws-cdk-lib brands its error codes as literal strings and keeps the `lit` helper that makes them private. */
type CdkErrorCode = ConstructorParameters<typeof ValidationError>[0];

/**
 * A bad prop, reported as aws-cdk-lib's own constructs report one: CDK's ValidationError, tied to the
 * construct (`Errors.isValidationError` is true, `constructPath` is set, and the CLI prints the construct
 * tree). The message starts with the construct path as well, for whoever only reads `message`.
 * aws-cdk-lib exports the class but marks it internal; the props tests would catch its removal.
 */
export function validationError(
  scope: IConstruct,
  code: SnowWhiteErrorCode,
  message: string,
): ValidationError {
  return new ValidationError(code as CdkErrorCode, `${scope.node.path}: ${message}`, scope);
}
