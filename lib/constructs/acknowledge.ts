import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledge one cdk-nag finding on one resource, with the reason it is acceptable.
 * `rule` is the rule id, with the finding in brackets for rules that report several per resource,
 * e.g. 'AwsSolutions-IAM5[Resource::*]'.
 */
export function acknowledge(resource: IConstruct, rule: string, reason: string): void {
  Validations.of(resource).acknowledge({ id: rule, reason });
}
