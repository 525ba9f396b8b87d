// ViTLensCheckpoint: where model weights come from.
//
// - SafeTensorsFile / SafeTensorsArchive: strict, memory-mapped `.safetensors` reading (single file or
//   sharded through `model.safetensors.index.json`); every header entry is validated up front.
// - WeightStore: what model code takes weights from by Hugging Face key; reports missing, mis-shaped
//   and unused weights by name.
// - ModelLocator / ModelFiles: a folder, a `.safetensors` file or a Hub id (standard Hugging Face cache,
//   downloaded over HTTPS when missing).
// - SafeTensorsWriter: float32 `.safetensors` output.
// - CheckpointError: every failure, as one line naming the file.
import ViTLensCore
