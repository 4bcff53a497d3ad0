/** Nodes with real keys and chains (libs/testing chains.ts), under the names credit-svc's tests use. */
import type { TestChainNode } from '@swarm/testing';
import { testChains } from '@swarm/testing';

export type Node = TestChainNode;
export const { START_MS, HASH, rules, node, append, receipt, pay, spender, resigned } = testChains;
