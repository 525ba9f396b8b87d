import Hummingbird
import ViTLens
import ViTLensWeb
