/** Nodes with real keys and chains (libs/testing chains.ts), under the names credit-svc's tests use. */
import { testChains } from '@swarm/testing';

export type Node = testChains.Node;
export const { START_MS, HASH, rules, node, append, receipt, pay, spender, resigned } = testChains;
