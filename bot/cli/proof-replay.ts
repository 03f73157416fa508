import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LEDGER } from '../../runner/ledger/schema';

/**
 * Where the bot records the identity proofs it has accepted, so that one is used once across every
 * Lambda container, not only within one: an item per signature in the ledger table, written only if
 * absent, gone by TTL once the proof is too old to be accepted anyway.
 */
export interface UsedProofs {
  /** True when this is the proof's first use; false when it was used before; throws when unknown. */
  firstUse(signature: string, expiresAtSeconds: number): Promise<boolean>;
}

export const proofKey = (signature: string) => `proof#${signature}`;

export function ledgerUsedProofs(deps: { client: DynamoDBDocumentClient; tableName: string }): UsedProofs {
  return {
    async firstUse(signature, expiresAtSeconds) {
      try {
        await deps.client.send(
          new PutCommand({
            TableName: deps.tableName,
            Item: {
              [LEDGER.partitionKey]: proofKey(signature),
              kind: 'proof',
              [LEDGER.ttlAttribute]: Math.ceil(expiresAtSeconds),
            },
            ConditionExpression: `attribute_not_exists(${LEDGER.partitionKey})`,
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return false;
        throw err;
      }
    },
  };
}
