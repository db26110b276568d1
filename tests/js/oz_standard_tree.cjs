// OpenZeppelin's StandardMerkleTree (npm @openzeppelin/merkle-tree, pinned in package.json)
// on the other side of fedstake's rewards-table dumps. Reads one JSON object on stdin:
//   {"dumps": [dump text, ...], "builds": [[value, ...], ...]}
// and writes {"loads": [...], "builds": [...]}: for each dump, StandardMerkleTree.load's root,
// each value's proof and whether it verifies, or the error load raised; for each list of
// values, JSON.stringify(StandardMerkleTree.of(values, leafEncoding).dump()).
const { readFileSync } = require("node:fs");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const ENCODING = ["address", "uint256", "uint256"];

function load(text) {
  try {
    const tree = StandardMerkleTree.load(JSON.parse(text));
    const proofs = [...tree.entries()].map(([i, value]) => {
      const proof = tree.getProof(i);
      return { value, proof, verified: StandardMerkleTree.verify(tree.root, ENCODING, value, proof) };
    });
    return { root: tree.root, proofs };
  } catch (error) {
    return { error: error.message };
  }
}

const input = JSON.parse(readFileSync(0, "utf8"));
const output = {
  loads: input.dumps.map(load),
  builds: input.builds.map(values => JSON.stringify(StandardMerkleTree.of(values, ENCODING).dump())),
};
process.stdout.write(JSON.stringify(output));
