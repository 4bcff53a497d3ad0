import { checkFindNodeResponse, checkFindValueResponse, MAX_CONTACTS_PER_REPLY } from './wire-checks';
import { DEFAULT_BUCKET_SIZE } from './dht-node';

const contactsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i.toString(16).padStart(40, '0'), endpoint: `node-${i}@127.0.0.1:${4000 + i}` }));

describe('dht wire checks - contacts in a reply', () => {
  it('take the k contacts a node lists, and refuse a reply crowded with more', () => {
    expect(MAX_CONTACTS_PER_REPLY).toBe(DEFAULT_BUCKET_SIZE);
    expect(checkFindNodeResponse({ contacts: contactsOf(DEFAULT_BUCKET_SIZE) }).contacts).toHaveLength(DEFAULT_BUCKET_SIZE);
    expect(() => checkFindNodeResponse({ contacts: contactsOf(DEFAULT_BUCKET_SIZE + 1) })).toThrow(`more than ${DEFAULT_BUCKET_SIZE} contacts`);
    expect(() => checkFindValueResponse({ values: [], contacts: contactsOf(DEFAULT_BUCKET_SIZE + 1) })).toThrow(`more than ${DEFAULT_BUCKET_SIZE} contacts`);
  });
});

describe('dht wire checks - the page mark of a find-value reply', () => {
  it('reads an absent mark as a reply from before pages, and refuses one that is not a boolean', () => {
    expect(checkFindValueResponse({ values: [], contacts: [] }).paged).toBe(false);
    expect(checkFindValueResponse({ values: [], contacts: [], paged: true }).paged).toBe(true);
    expect(() => checkFindValueResponse({ values: [], contacts: [], paged: 'yes' })).toThrow('paged is not a boolean');
  });
});
